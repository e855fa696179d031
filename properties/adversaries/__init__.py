"""The one adversary library: Byzantine strategies, persistent coordinators, menus."""
