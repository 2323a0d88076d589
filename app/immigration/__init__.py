"""Wales NRM: the immigration package."""
