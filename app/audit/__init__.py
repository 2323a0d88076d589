"""Wales NRM: the audit package."""
