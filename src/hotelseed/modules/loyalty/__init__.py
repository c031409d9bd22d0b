"""Loyalty: tier configs, rules, perks, accounts, ledger, tier history, redemptions, referrals, transfers."""
