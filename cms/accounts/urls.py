"""The members' sign-in routes (included at the site's root by cms.project.urls)."""

from django.urls import path

from . import views

urlpatterns = [
    path("login/", views.SignInView.as_view(), name="cms_sign_in"),
    path("logout/", views.sign_out, name="cms_sign_out"),
    path("login/forgot/", views.password_forgot, name="cms_password_forgot"),
    path("login/forgot/code/", views.password_reset_with_code, name="cms_password_reset"),
    path("inbox/", views.inbox, name="cms_inbox"),
    path("branch/members/", views.branch_members, name="cms_branch_members"),
]
