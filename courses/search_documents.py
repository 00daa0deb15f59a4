"""Course pages and lessons register here when the app has models: `search.registry.register(CoursePage,
to_document=..., kind_labels=...)` as cms/search_documents.py does for pages (nothing to register yet)."""
