"""The courses' JSON API (mounted at /api/v1/courses/ by cms/project/api.py)."""
