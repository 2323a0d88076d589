"""Wales NRM: the intake package."""
