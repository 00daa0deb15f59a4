"""Feeds for apps that cannot log in through a form: the OPDS catalogue (/opds/) for reading apps and the podcast
feeds (/podcasts/), their URLs (mounted by cms/project/urls), and the HTTP Basic sign-in they share with the file
links they hand out."""
