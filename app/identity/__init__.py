"""Wales NRM: the identity package."""
