"""Wales NRM: the reports package."""
