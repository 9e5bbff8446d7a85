from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect

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
