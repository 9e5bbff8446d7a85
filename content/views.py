from django.http import Http404
from django.shortcuts import render

from . import selectors


def standard_list(request):
    return render(request, "content/standard_list.html", {"standards": selectors.standards_live()})


def standard_detail(request, standard_id: int):
    standard = selectors.standard_with_clauses(standard_id=standard_id)
    if standard is None:
        raise Http404
    return render(request, "content/standard_detail.html", {"standard": standard})


def service_item_list(request):
    return render(request, "content/service_item_list.html", {"categories": selectors.service_items_by_category()})
