"""Screens and TV (issue 18): channels, schedules, paired devices and their manifests. Nothing imports this app."""
