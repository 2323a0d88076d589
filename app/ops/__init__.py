"""Wales NRM: the ops package."""
