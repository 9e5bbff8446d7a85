from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from .models import Role


@login_required
def home(request):
    """Send each role to where its work is."""
    user = request.user
    if user.has_role(Role.CAREGIVER) and hasattr(user, "caregiver_profile"):
        return redirect("training:my_learning")
    if user.has_role(Role.ASSESSOR):
        return redirect("certification:assessor_home")
    if user.has_perm("wagtailadmin.access_admin"):
        return redirect("wagtailadmin_home")
    return redirect("/")


def signin_locked_out(request, credentials, *args, **kwargs):
    """django-axes' answer to a sign-in while its account and address are locked out: in words, with the wait."""
    from django.conf import settings

    minutes = max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    return render(request, "accounts/locked_out.html", {"cooloff_minutes": minutes}, status=429)
