"""Members' own door to the site: sign in with a phone number or username, sign out, and a forgotten password
(the branch secretary, or a code by SMS). Editors keep Wagtail's /admin/login/; a member who signs in here is never
sent into the admin. Every password check goes through ``authenticate(request, …)``, so django-axes throttles this
page with the same rules as every other one (cms.login_throttle)."""
