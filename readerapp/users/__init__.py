"""Accounts, roles and personal API tokens."""
