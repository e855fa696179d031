"""The search (layout: properties/search/)."""
