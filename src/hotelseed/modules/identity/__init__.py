"""Identity and roles: organizations, users, roles, property-scoped user roles."""
