"""The caregiver chooser: every admin form that names a caregiver searches instead of listing 10^5 names."""

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy
from wagtail.admin.forms.choosers import BaseFilterForm
from wagtail.admin.viewsets.chooser import ChooserViewSet

from .guards import AdministratorRequiredMixin
from .models import CaregiverProfile


class CaregiverFilterForm(BaseFilterForm):
    q = forms.CharField(
        label=gettext_lazy("Name, institution or identity card number"),
        required=False,
        widget=forms.TextInput(attrs={"data-chooser-modal-search-filter": True}),
    )

    def filter(self, objects):
        query = self.cleaned_data.get("q", "").strip()
        if query:
            self.is_searching, self.search_query = True, query
            objects = objects.filter(
                Q(user__name__icontains=query) | Q(institution__name__icontains=query) | Q(national_id=query.upper())
            )
        return objects


class CaregiverChooserViewSet(ChooserViewSet):
    model = CaregiverProfile
    icon = "user"
    choose_one_text = gettext_lazy("Choose a caregiver")
    choose_another_text = gettext_lazy("Choose another caregiver")
    edit_item_text = gettext_lazy("Edit this caregiver")
    per_page = 20

    @property
    def choose_view_class(self):
        base = super().choose_view_class

        class ChooseView(AdministratorRequiredMixin, base):
            filter_form_class = CaregiverFilterForm

            def get_object_list(self):
                return CaregiverProfile.objects.select_related("user", "institution").order_by("user__name")

        return ChooseView

    @property
    def choose_results_view_class(self):
        base = super().choose_results_view_class

        class ChooseResultsView(AdministratorRequiredMixin, base):
            filter_form_class = CaregiverFilterForm

            def get_object_list(self):
                return CaregiverProfile.objects.select_related("user", "institution").order_by("user__name")

        return ChooseResultsView


caregiver_chooser_viewset = CaregiverChooserViewSet("caregiver_chooser")
