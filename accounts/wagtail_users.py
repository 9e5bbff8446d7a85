"""Wagtail's users app with CareStar's user screens: the edit page of a user offers to reset their second factor.

Installed in place of "wagtail.users", as Wagtail documents for a custom user viewset; it imports nothing of the
project's models, since Django loads it before the models are ready."""

from wagtail.users.apps import WagtailUsersAppConfig


class UsersAppConfig(WagtailUsersAppConfig):
    user_viewset = "accounts.user_admin.UserViewSet"
