from django import template

from content.models import HomePage

register = template.Library()


@register.simple_tag(takes_context=True)
def demo_notice(context) -> str:
    # One query per page at most, cached on the request.
    request = context.get("request")
    if request is None:
        return ""
    if not hasattr(request, "_demo_notice"):
        request._demo_notice = HomePage.objects.values_list("demo_notice", flat=True).first() or ""
    return request._demo_notice
