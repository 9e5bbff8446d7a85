from django import template

from training.selectors import course_list_live

register = template.Library()


@register.simple_tag
def live_courses(limit: int = 12):
    """The newest published courses, for pages of lower apps (the home page) that list them."""
    return list(course_list_live()[:limit])
