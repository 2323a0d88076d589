"""Wales NRM: the referral service for potential victims of modern slavery in Wales."""
