"""Languages of the service: English and Welsh, for the web pages and the API's problems.

`core` holds the catalogues (gettext, compiled by Babel, shipped in `locale/`), the language of
the current request and the translation of problem texts; `dates` writes dates in either
language; `extract` feeds Babel the messages the code composes. Framework-free: the web pages
and the API's problem renderer both use it, neither owns it.
"""
