"""The web service: server-side pages in Welsh and English beside the API (WEB.md).

A door like the API's routers: its routes authenticate, call the commands and queries the API
calls, and render; it holds no rule of its own. It never imports the immigration compartment
(an import contract says so): the referral form's immigration part reaches it through the
intake, as the API's does.
"""
