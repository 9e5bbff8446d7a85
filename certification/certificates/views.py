from django import forms
from django.contrib.auth.decorators import login_required
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from accounts.guards import caregiver_for
from accounts.two_factor import two_factor_exempt

from . import openbadges, selectors
from .models import Certificate
from .ratelimit import rate_limited
from .verification import pdf_file_check

# --- Certificates --------------------------------------------------------------------------------------


@login_required
def certificate_download(request, certificate_id: int):
    caregiver = caregiver_for(request.user)
    certificates = Certificate.objects.issued()
    if not request.user.is_administrator:
        certificates = certificates.filter(caregiver=caregiver) if caregiver else certificates.none()
    certificate = get_object_or_404(certificates, pk=certificate_id)
    # The stored file as issued, never a fresh render.
    return FileResponse(
        certificate.pdf.open("rb"),
        as_attachment=True,
        filename=f"{certificate.serial_number}.pdf",
        content_type="application/pdf",
    )


class VerifyForm(forms.Form):
    number = forms.CharField(label=gettext_lazy("Certificate number or verification code"), max_length=40)
    name = forms.CharField(
        label=gettext_lazy("Holder's name"),
        max_length=50,
        required=False,
        help_text=gettext_lazy("Needed with a certificate number; not with the verification code of the QR code."),
    )


class GenuineFileForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Certificate PDF"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_CHECKED_FILE_SIZE:
            raise forms.ValidationError(_("The file is larger than any certificate (at most 5 MB)."))
        if upload.size == 0:
            raise forms.ValidationError(_("The file is empty."))
        return upload


MAX_CHECKED_FILE_SIZE = 5 * 1024 * 1024
# Session key: the certificates this visitor looked up by number and holder's name.
NAMED_LOOKUPS = "verify_named_lookups"


def _may_see_photo(request, certificate) -> bool:
    user = request.user
    if user.is_authenticated and (user.is_administrator or certificate.caregiver.user_id == user.pk):
        return True
    return certificate.verification_code in request.session.get(NAMED_LOOKUPS, [])


@rate_limited("verify")
def verify_form(request):
    form = VerifyForm(request.GET or None)
    if form.is_bound and form.is_valid():
        number = form.cleaned_data["number"].strip()
        name = form.cleaned_data["name"].strip()
        # Serial numbers run in sequence, so a number alone would let anyone walk the register: it needs the name.
        certificate = (
            Certificate.objects.issued()
            .filter(Q(verification_code=number) | Q(serial_number=number, holder_name=name or None))
            .first()
        )
        if certificate is not None:
            if name and certificate.serial_number == number:
                # Number and name both known: this visitor may see the holder's photo too.
                named = request.session.get(NAMED_LOOKUPS, [])
                request.session[NAMED_LOOKUPS] = [*named[-19:], certificate.verification_code]
            return redirect(certificate)
        if not name:
            # Not a verification code: a certificate number, which is looked up only with the holder's name.
            form.add_error(
                "name", _("A certificate number is looked up with the holder's name: enter the name as printed.")
            )
        else:
            form.add_error("number", _("No certificate has this number (and name). Check them and try again."))
    return render(request, "certification/verify_form.html", {"form": form, "file_form": GenuineFileForm()})


class SizeLimitedUploadHandler(FileUploadHandler):
    """Stops reading an anonymous upload once it is larger than any certificate, instead of spooling it to disk."""

    def __init__(self, request=None, limit: int = MAX_CHECKED_FILE_SIZE):
        super().__init__(request)
        self.limit = limit
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.request.upload_too_large = True
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        return None


@csrf_exempt  # the handler must be in place before the CSRF check reads the body; the check runs below
@rate_limited("verify")
@require_http_methods(["GET", "POST"])
def verify_file(request):
    request.upload_handlers.insert(0, SizeLimitedUploadHandler(request))
    return _verify_file(request)


@csrf_protect
def _verify_file(request):
    """Is this file genuine? One verdict: ours and unchanged (in force or not), ours but modified, or not ours."""
    if request.method == "POST":
        request.FILES  # noqa: B018  (parse the body now, through the size-limited handler)
    if getattr(request, "upload_too_large", False):
        form = GenuineFileForm(request.POST)
        form.is_valid()
        form.add_error("file", _("The file is larger than any certificate (at most 5 MB)."))
        return render(request, "certification/verify_file.html", {"file_form": form, "result": None})
    form = GenuineFileForm(request.POST or None, request.FILES or None)
    result = None
    if form.is_bound and form.is_valid():
        result = pdf_file_check(b"".join(form.cleaned_data["file"].chunks()))
    return render(request, "certification/verify_file.html", {"file_form": form, "result": result})


@rate_limited("verify")
def verify_detail(request, code: str):
    certificate = (
        Certificate.objects.issued().select_related("predecessor", "successor").filter(verification_code=code).first()
    )
    if certificate is None:
        return render(request, "certification/verify_unknown.html", {"code": code}, status=404)
    user = request.user
    can_take_badge = user.is_authenticated and (user.is_administrator or certificate.caregiver.user_id == user.pk)
    return render(
        request,
        "certification/verify_detail.html",
        {
            "certificate": certificate,
            "can_take_badge": can_take_badge,
            "show_photo": bool(certificate.holder_photo) and _may_see_photo(request, certificate),
        },
    )


@rate_limited("verify")
def verify_photo(request, code: str):
    """The holder's photo as printed: for whoever entered the certificate number and the name, and the holder."""
    certificate = Certificate.objects.issued().select_related("caregiver").filter(verification_code=code).first()
    if certificate is None or not certificate.holder_photo or not _may_see_photo(request, certificate):
        raise Http404
    response = FileResponse(certificate.holder_photo.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    return response


@two_factor_exempt  # a public document for verifiers' software, never a page a person works in
@rate_limited("verify")
def verify_json(request, code: str):
    certificate = (
        Certificate.objects.issued().select_related("predecessor", "successor").filter(verification_code=code).first()
    )
    if certificate is None:
        return JsonResponse(
            {
                "type": "about:blank",
                "title": "Not Found",
                "status": 404,
                "detail": "No certificate has this verification code.",
                "detail_zh": "没有与此验证码对应的证书。",
            },
            status=404,
            content_type="application/problem+json",
            json_dumps_params={"ensure_ascii": False},
        )
    return JsonResponse(
        selectors.certificate_public_record(certificate=certificate), json_dumps_params={"ensure_ascii": False}
    )


# --- Open Badges 3.0 ------------------------------------------------------------------------------------


@two_factor_exempt
def ob_issuer(request):
    return JsonResponse(openbadges.issuer_profile(), json_dumps_params={"ensure_ascii": False})


@two_factor_exempt
def ob_key(request, kid: str):
    if kid != openbadges.key_id():
        raise Http404
    return JsonResponse(openbadges.public_jwk())


@two_factor_exempt
def ob_achievement(request, star_level: int):
    if not 1 <= star_level <= 5:
        raise Http404
    return JsonResponse(openbadges.achievement(star_level), json_dumps_params={"ensure_ascii": False})


@login_required
def ob_credential(request, code: str):
    """The credential as JSON (unsigned view) or, with ?format=jwt or Accept: application/vc+jwt, the VC-JWT.

    Only for the holder (and administrators), who hand it to whoever they choose.
    """
    certificates = Certificate.objects.issued().select_related("caregiver")
    if not request.user.is_administrator:
        certificates = certificates.filter(caregiver__user=request.user)
    certificate = get_object_or_404(certificates, verification_code=code)
    wants_jwt = request.GET.get("format") == "jwt" or "application/vc+jwt" in request.headers.get("Accept", "")
    if wants_jwt:
        response = HttpResponse(openbadges.credential_jwt(certificate), content_type="application/vc+jwt")
        response["Content-Disposition"] = f'attachment; filename="{certificate.serial_number}.jwt"'
        return response
    return JsonResponse(openbadges.credential(certificate), json_dumps_params={"ensure_ascii": False})


@two_factor_exempt
def ob_status_list(request, list_number: int):
    revoked = selectors.status_list_revoked_indexes(list_number=list_number)
    token = openbadges.status_list_jwt(list_number, revoked, now=timezone.now())
    response = HttpResponse(token, content_type="application/vc+jwt")
    # A revocation must reach verifiers within a minute.
    response["Cache-Control"] = "public, max-age=60"
    return response
