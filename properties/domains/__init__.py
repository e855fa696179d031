"""Value domains of the verification: symbolic forms and the tiny exact field."""
