"""Wales NRM: the referrals package."""
