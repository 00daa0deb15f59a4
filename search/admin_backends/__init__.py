"""Wagtail admin search that finds Chinese (pages, documents, images and choosers).

Wagtail's stock backends store a run of Chinese characters as one token, so an editor typing 党史 finds nothing
in "学习党史的好书". These backends extend modelsearch's: the database one stores our Python-made terms
(search.engines.analysis: characters, bigrams, words) in place of the raw text (`database`), the engine one gives the
cluster the same CJK analysis as our own index (`engine`). cms/settings/base.py picks one from the environment.
(The site search's own engines are search.engines; these serve only the Wagtail admin.)
"""
