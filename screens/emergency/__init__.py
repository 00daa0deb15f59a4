"""Emergency takeovers: their signatures and what a device receives."""
