"""The caregiver chooser: every admin form that names a caregiver searches instead of listing 10^5 names."""

from django import forms
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q
from django.utils.translation import gettext_lazy
from wagtail.admin.forms.choosers import BaseFilterForm
from wagtail.admin.viewsets.chooser import ChooserViewSet

from .guards import AdministratorRequiredMixin
from .models import CaregiverProfile


class SearchFilterForm(BaseFilterForm):
    """A chooser's one search box; a subclass says what it matches (`matching`) and labels the box."""

    q = forms.CharField(
        label=gettext_lazy("Search"),
        required=False,
        widget=forms.TextInput(attrs={"data-chooser-modal-search-filter": True}),
    )

    def matching(self, query: str) -> Q:
        raise ImproperlyConfigured(f"{type(self).__name__} must say what its search matches.")

    def filter(self, objects):
        query = self.cleaned_data.get("q", "").strip()
        if query:
            self.is_searching, self.search_query = True, query
            objects = objects.filter(self.matching(query))
        return objects


class CaregiverFilterForm(SearchFilterForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].label = gettext_lazy("Name or institution")

    def matching(self, query: str) -> Q:
        # Never the identity number: a search box's query string ends up in access logs.
        return Q(user__name__icontains=query) | Q(institution__name__icontains=query)


class AdministratorsSearchChooserViewSet(ChooserViewSet):
    """A chooser for administrators that searches instead of listing everything: a subclass names its
    `filter_form_class` and the rows it offers (`chooser_queryset`)."""

    per_page = 20
    filter_form_class = BaseFilterForm

    def chooser_queryset(self):
        return self.model.objects.all()

    def _for_administrators(self, base):
        viewset = self

        class View(AdministratorRequiredMixin, base):
            filter_form_class = viewset.filter_form_class

            def get_object_list(self):
                return viewset.chooser_queryset()

        return View

    @property
    def choose_view_class(self):
        return self._for_administrators(super().choose_view_class)

    @property
    def choose_results_view_class(self):
        return self._for_administrators(super().choose_results_view_class)

    # The views that answer with a chosen row (its name, by id) are for administrators too: otherwise any admin
    # user could read anyone's name by trying ids.
    @property
    def chosen_view_class(self):
        return type("ChosenView", (AdministratorRequiredMixin, super().chosen_view_class), {})

    @property
    def chosen_multiple_view_class(self):
        return type("ChosenMultipleView", (AdministratorRequiredMixin, super().chosen_multiple_view_class), {})


class CaregiverChooserViewSet(AdministratorsSearchChooserViewSet):
    model = CaregiverProfile
    icon = "user"
    choose_one_text = gettext_lazy("Choose a caregiver")
    choose_another_text = gettext_lazy("Choose another caregiver")
    edit_item_text = gettext_lazy("Edit this caregiver")
    filter_form_class = CaregiverFilterForm

    def chooser_queryset(self):
        return CaregiverProfile.objects.select_related("user", "institution").order_by("user__name")


caregiver_chooser_viewset = CaregiverChooserViewSet("caregiver_chooser")
