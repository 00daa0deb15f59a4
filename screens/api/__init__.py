"""The screens' JSON API (``routes``), mounted by the project's API root."""
