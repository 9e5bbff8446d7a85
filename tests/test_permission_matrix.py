"""Who may open what, for every URL: each URL pattern of the project and of the Wagtail admin it exposes (choosers,
history, usage, reports and their exports included) is found by walking the URL configuration, filled in with
objects that belong to the "A" side of a demo world (caregiver A's attempt, evaluation and certificate, training
body A's course and batch, assessor 1's assessment), and requested as each role. A URL that no rule below covers
fails the suite, so a new view must say who may open it."""

import datetime
import fnmatch
import re

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

pytestmark = pytest.mark.django_db

ROLES = (
    "anonymous",
    "caregiver_a",
    "caregiver_b",
    "trainer_a",
    "trainer_b",
    "assessor_1",
    "assessor_2",
    "manager_other",
    "administrator",
)
EVERYONE = frozenset(ROLES)
NOBODY = frozenset()
ADMINISTRATOR = frozenset({"administrator"})
CAREGIVERS = frozenset({"caregiver_a", "caregiver_b"})
ASSESSORS = frozenset({"assessor_1", "assessor_2"})
TRAINERS = frozenset({"trainer_a", "trainer_b"})
# The roles with access to the Wagtail admin.
STAFF = TRAINERS | {"manager_other", "administrator"}
SIGNED_IN_WITHOUT_ADMIN = CAREGIVERS | ASSESSORS

# First match wins: a URL name (or, unnamed, its route) against a shell pattern, and the roles that may open the URL
# filled in with A's objects. Everyone else must be refused: sent to sign in, 403, 404, or (in the admin) sent back
# to the dashboard with Wagtail's "no permission" message.
RULES: list[tuple[str, frozenset, str]] = [
    # --- Public: the site, verification, the credential's public documents ---------------------------------------
    ("wagtail_serve", EVERYONE, "the site's pages"),
    ("content:*", EVERYONE, "the care standards and service items"),
    ("training:course_list", EVERYONE, "the course catalogue"),
    ("certification:verify_photo", NOBODY, "only a certificate printed with a photo has one (A's has none)"),
    ("certification:verify*", EVERYONE, "public verification"),
    ("certification:ob_issuer", EVERYONE, "the issuer's Open Badges profile"),
    ("certification:ob_achievement", EVERYONE, "the achievement definitions"),
    ("certification:ob_status_list", EVERYONE, "the revocation status list"),
    ("certification:ob_key", NOBODY, "the world's key id is made up: 404"),
    ("accounts:login", EVERYONE, "the site's sign-in page"),
    ("set_language", EVERYONE, "the language switch"),
    ("wagtailcore_login", EVERYONE, "Wagtail's sign-in for private pages"),
    ("wagtailcore_authenticate_with_password", NOBODY, "no password-protected page exists"),
    ("wagtaildocs_authenticate_with_password", NOBODY, "no password-protected document exists"),
    ("wagtaildocs_serve", NOBODY, "no document exists"),
    ("wagtailadmin_sprite", EVERYONE, "the admin's icons"),
    ("wagtailadmin_javascript_catalog", EVERYONE, "the admin's translations"),
    ("wagtailadmin_password_reset*", EVERYONE, "the admin's password reset (tells nothing of an account)"),
    ("wagtailadmin_login", EVERYONE - STAFF, "the admin's sign-in (the staff, signed in, go to the dashboard)"),
    ("accounts:two_factor_verify", NOBODY, "already verified: sent on to the workspace"),
    ("accounts:two_factor_recovery_codes", EVERYONE - {"anonymous"}, "only the codes just made; else a redirect"),
    ("accounts:two_factor*", ASSESSORS | ADMINISTRATOR, "one's own second factor, for those who need one"),
    ("accounts:home", SIGNED_IN_WITHOUT_ADMIN, "a signed-in person's workspace (the staff go to the admin)"),
    # --- Caregivers: only their own ----------------------------------------------------------------------------------
    ("training:my_learning", CAREGIVERS, "my learning"),
    ("accounts:my_data", CAREGIVERS, "my personal data: what the download holds"),
    ("accounts:my_data_download", CAREGIVERS, "the download of it (POST), one's own only"),
    ("training:enrol", CAREGIVERS, "enrolling (POST)"),
    ("training:lesson_complete", CAREGIVERS, "a lesson studied (POST)"),
    ("certification:exam_start", CAREGIVERS, "an exam's start page"),
    ("certification:attempt*", {"caregiver_a"}, "A's attempt: A only"),
    ("certification:my_star*", CAREGIVERS, "my star level, application, history"),
    ("certification:my_star_withdraw", {"caregiver_a"}, "withdrawing A's evaluation (POST)"),
    ("certification:my_star_appeal", {"caregiver_a"}, "appealing A's decision (POST)"),
    ("certification:certificate_download", {"caregiver_a", "administrator"}, "A's certificate PDF"),
    ("certification:ob_credential", {"caregiver_a", "administrator"}, "A's signed credential"),
    # --- Assessors: their own assignments -----------------------------------------------------------------------
    ("certification:assessor_home", ASSESSORS, "the assessor's workspace"),
    ("certification:practical_list", ASSESSORS, "the assessor's practical assessments"),
    ("certification:practical_score", {"assessor_1"}, "assessor 1's assessment"),
    ("certification:evaluation_propose", {"assessor_1"}, "the evaluation assigned to assessor 1"),
    ("certification:evaluation_review", NOBODY, "A's evaluation waits for no review"),
    # --- The LTCI system --------------------------------------------------------------------------------------------
    ("certification:service_data_api", NOBODY, "token only: a session is not enough"),
    # --- The admin: what every member of the staff has --------------------------------------------------------------
    ("wagtailadmin_home", STAFF, "the dashboard"),
    ("admin/test404/", STAFF, "the admin's 404 page"),
    ("wagtailadmin_error_test", NOBODY, "Wagtail's page that fails on purpose is not served"),
    ("admin/failwhale/", NOBODY, "the same, answered with 404 before Wagtail's pattern"),
    ("wagtailadmin_account*", STAFF, "one's own account settings"),
    ("wagtailadmin_dismissibles", STAFF, "one's own dismissed hints"),
    ("wagtailadmin_api:*:listing", STAFF, "the admin API's listings, filtered by permission"),
    ("wagtailadmin_api:pages:detail", {"trainer_a", "administrator"}, "A's course through the admin API"),
    ("wagtailadmin_api:*", NOBODY, "no such document or image; `find` without a query"),
    ("wagtailadmin_choose_page*", STAFF, "the page chooser: live pages and one's own subtree"),
    ("wagtailadmin_tag_autocomplete", STAFF, "tag suggestions"),
    ("wagtailadmin_tag_model_autocomplete", NOBODY, "no tagged model of that name"),
    ("wagtailadmin_workflows:task_chooser*", STAFF, "the workflow task chooser (task names)"),
    ("wagtailadmin_workflows:task_chosen", STAFF, "a chosen task's name"),
    ("wagtailadmin_pages:confirm_workflow_cancellation", STAFF, "empty unless the page is in moderation"),
    ("wagtailadmin_pages:revisions_index", STAFF, "a redirect to the page's history, which is checked there"),
    ("wagtailembeds:*", STAFF, "the embed chooser"),
    ("wagtailsnippetchoosers_*:create", ADMINISTRATOR, "creating standards or templates from a chooser"),
    ("wagtailsnippetchoosers_*", STAFF, "choosers of the standards, clauses, service items, certificate templates"),
    ("wagtaildocs_chooser:choose*", STAFF, "the document chooser (collections by permission)"),
    ("wagtaildocs_chooser:chosen_multiple", STAFF, "chosen documents (none asked for)"),
    ("wagtailimages_chooser:choose*", STAFF, "the image chooser (collections by permission)"),
    ("wagtailimages_chooser:chosen_multiple", STAFF, "chosen images (none asked for)"),
    ("route:admin/settings/<slug:app_name>/<slug:model_name>/", STAFF, "a redirect to the edit page, checked there"),
    ("wagtailsettings:preview_on_edit", NOBODY, "the training settings have no preview"),
    ("wagtailsettings:*", ADMINISTRATOR, "site settings"),
    ("wagtailadmin_editing_sessions:*", STAFF, "editing-session pings: checked per object (POST)"),
    ("wagtailadmin_pages:lock", STAFF, "locking: checked per page (POST)"),
    ("wagtailadmin_pages:unlock", STAFF, "unlocking: checked per page (POST)"),
    ("wagtailadmin_pages:set_page_position", STAFF, "ordering: checked per page (POST)"),
    ("wagtailadmin_workflows:enable*", STAFF, "checked by the workflow permission (POST)"),
    ("wagtailadmin_workflows:remove", STAFF, "checked by the workflow permission (POST)"),
    ("wagtaildocs:add*", TRAINERS | ADMINISTRATOR, "uploading documents"),
    ("wagtailimages:add*", TRAINERS | ADMINISTRATOR, "uploading images"),
    ("wagtaildocs:*_multiple*", STAFF, "multiple upload steps (POST) of a document that does not exist"),
    ("wagtailimages:*_multiple*", STAFF, "multiple upload steps (POST) of an image that does not exist"),
    ("wagtaildocs_chooser:create", TRAINERS | ADMINISTRATOR, "uploading a document from the chooser"),
    ("wagtailimages_chooser:create", TRAINERS | ADMINISTRATOR, "uploading an image from the chooser"),
    # --- The admin: training bodies' pages, batches and questions ---------------------------------------------------
    ("wagtailadmin_explore*", TRAINERS | ADMINISTRATOR, "the page explorer, each in their own subtree"),
    ("wagtailadmin_pages:search*", TRAINERS | ADMINISTRATOR, "page search, filtered by permission"),
    ("wagtailadmin_pages:type_use*", TRAINERS | ADMINISTRATOR, "where a page type is used, filtered by permission"),
    ("wagtailadmin_reports:locked_pages*", ADMINISTRATOR, "locked pages"),
    ("wagtailadmin_reports:site_history*", ADMINISTRATOR, "every object's history"),
    ("wagtailadmin_reports:*", TRAINERS | ADMINISTRATOR, "Wagtail's page reports, filtered by permission"),
    ("wagtailforms:index*", TRAINERS | ADMINISTRATOR, "form pages, filtered by permission (there are none)"),
    ("wagtailforms:*", NOBODY, "no form page exists"),
    ("wagtaildocs:index*", TRAINERS | ADMINISTRATOR, "documents, by collection permission"),
    ("wagtaildocs:add*", TRAINERS | ADMINISTRATOR, "uploading documents"),
    ("wagtailimages:index*", TRAINERS | ADMINISTRATOR, "images, by collection permission"),
    ("wagtailimages:add*", TRAINERS | ADMINISTRATOR, "uploading images"),
    ("wagtaildocs:*", NOBODY, "no document exists"),
    ("wagtailimages:*", NOBODY, "no image exists"),
    ("wagtaildocs_chooser:chosen", NOBODY, "no document exists"),
    ("wagtailimages_chooser:*", NOBODY, "no image exists"),
    ("wagtailadmin_pages:add", {"trainer_a", "administrator"}, "a course under A's index"),
    ("wagtailadmin_pages:preview_on_add", {"trainer_a", "administrator"}, "its preview"),
    ("wagtailadmin_pages:add_subpage", {"trainer_a", "administrator"}, "a page under A's index"),
    ("wagtailadmin_pages:edit", {"trainer_a", "administrator"}, "A's course"),
    ("wagtailadmin_pages:preview_on_edit", {"trainer_a", "administrator"}, "A's course"),
    ("wagtailadmin_pages:view_draft", {"trainer_a", "administrator"}, "A's course"),
    ("wagtailadmin_pages:copy", {"trainer_a", "administrator"}, "A's course"),
    ("wagtailadmin_pages:usage", {"trainer_a", "administrator"}, "A's course"),
    ("wagtailadmin_pages:history*", {"trainer_a", "administrator"}, "A's course"),
    ("wagtailadmin_pages:revisions_view", {"trainer_a", "administrator"}, "A's course"),
    ("wagtailadmin_pages:revisions_revert", {"trainer_a", "administrator"}, "A's course"),
    ("wagtailadmin_pages:workflow_history", {"trainer_a", "administrator"}, "A's course"),
    ("wagtailadmin_pages:*", ADMINISTRATOR, "moving, deleting, unpublishing, privacy: the bureau's"),
    ("training_batches:index*", TRAINERS | ADMINISTRATOR, "batches, each body its own"),
    ("training_batches:add", TRAINERS | ADMINISTRATOR, "a new batch"),
    ("training_batches:*", {"trainer_a", "administrator"}, "A's batch: its edit, history, usage, attendance"),
    ("questions:index*", TRAINERS | ADMINISTRATOR, "the question bank, each body its own"),
    ("questions:add", TRAINERS | ADMINISTRATOR, "a new question"),
    ("question_chooser:create", TRAINERS | ADMINISTRATOR, "a new question from the chooser"),
    ("certification_question_import*", TRAINERS | ADMINISTRATOR, "importing questions"),
    # --- The admin: institution managers -----------------------------------------------------------------------------
    ("evaluation_rounds:index", {"manager_other", "administrator"}, "re-evaluation rounds, each their own"),
    ("evaluation_rounds:add", {"manager_other", "administrator"}, "a round for one's institution"),
    ("evaluation_rounds:certificates", ADMINISTRATOR, "issuing a round's certificates (POST)"),
    ("re_evaluation_due:*", {"manager_other", "administrator"}, "who falls due, each their own staff"),
    ("nominations:index", {"manager_other"}, "the manager's staff, to nominate"),
    ("nominations:results", {"manager_other"}, "the manager's staff, to nominate"),
    ("nominations:*", NOBODY, "A is not the other manager's staff"),
    # --- The admin: administrators only ------------------------------------------------------------------------------
    ("caregiverprofile:national_id_reveal", ADMINISTRATOR, "a whole identity number, shown with an audit entry"),
    # Everything else in the admin is the bureau's. Outside the admin there is no default: a new view needs a rule.
    ("route:admin/*", ADMINISTRATOR, "everything else of the admin: the bureau's"),
]

# Admin screens of objects that exist in the world but that nobody may open as requested: the object's state
# forbids it (an evaluation already decided cannot be assigned), or the screen exists for creation only.
STATE_REFUSED = {
    "accessattempt:edit": "no sign-in failure recorded in the world",
    "accessattempt:delete": "no sign-in failure recorded in the world",
    "accessattempt:history*": "no sign-in failure recorded in the world",
    "accessattempt:inspect": "no sign-in failure recorded in the world",
    "accessattempt:usage": "no sign-in failure recorded in the world",
    "appeal:add": "appeals are filed by caregivers, not created in the admin",
    "appeal:edit": "an appeal is decided, not edited",
    "appeal:delete": "an appeal is never deleted",
    "appeal:usage": "no usage screen",
    "assessorprofile:add": "assessors are created with their account",
    "caregiverprofile:add": "caregivers are created with their account",
    "caregiver_chooser:create": "no creation from the chooser",
    "certificates:add": "certificates are issued, never created in the admin",
    "certificates:edit": "a certificate is frozen",
    "certificates:delete": "a certificate is never deleted",
    "certificates:history*": "a certificate's history is its inspect page",
    "certificates:usage": "no usage screen",
    "evaluation:add": "evaluations are opened by application, nomination or round",
    "evaluation:edit": "an evaluation moves only through its steps",
    "evaluation:delete": "an evaluation is never deleted",
    "evaluation:usage": "no usage screen",
    "exam_attempts:add": "attempts are started by caregivers",
    "exam_attempts:edit": "an attempt is never edited",
    "exam_attempts:delete": "an attempt is never deleted",
    "exam_attempts:history*": "no history screen",
    "exam_attempts:usage": "no usage screen",
    "exam_overrides:edit": "no override in the world",
    "exam_overrides:delete": "no override in the world",
    "exam_overrides:history*": "no override in the world",
    "exam_overrides:usage": "no override in the world",
    "practical_assessments:edit": "scored by the assessor on the site",
    "practical_assessments:usage": "no usage screen",
    "service_data_clients:delete": "a client is deactivated, never deleted",
    "service_data_imports:add": "imports come from uploads and the API",
    "service_data_imports:edit": "an import is a record",
    "service_data_imports:delete": "an import is never deleted",
    "service_data_imports:history*": "no history screen",
    "service_data_imports:usage": "no usage screen",
    "service_months:add": "service data comes from imports",
    "service_months:edit": "service data comes from imports",
    "service_months:delete": "service data comes from imports",
    "service_months:history*": "no history screen",
    "service_months:usage": "no usage screen",
    "service_incidents:add": "service data comes from imports",
    "service_incidents:edit": "service data comes from imports",
    "service_incidents:delete": "service data comes from imports",
    "service_incidents:history*": "no history screen",
    "service_incidents:usage": "no usage screen",
    "service_data_upload:template": "the template's kind in the world is made up: 404",
    "content_imports:template": "the template's kind in the world is made up: 404",
    "content_imports:job": "no import job in the world",
    "wagtail_bulk_action": "the world's bulk action is made up",
    "wagtailadmin_block_preview": "needs a block to preview",
    "wagtailadmin_workflows:add_task": "no such task type",
    "wagtailredirects:edit": "no redirect in the world",
    "wagtailredirects:delete": "no redirect in the world",
    "wagtailsnippets_*:revisions_revert": "the snippet has no revision",
    "wagtailsnippets_*:revisions_compare": "the snippet has no revision",
    "wagtailsnippets_*:revisions_unschedule": "the snippet has no revision",
    "wagtailsnippets_certification_certificatetemplate:revisions_view": "the template has no revision",
    "wagtailadmin_pages:convert_alias": "A's course is not an alias",
    "wagtailadmin_pages:choose_parent": "the world's page type takes no chosen parent",
    "wagtailadmin_pages:*workflow_action*": "A's course is in no workflow",
    "wagtailadmin_pages:workflow_history_detail": "A's course is in no workflow",
    "wagtailadmin_pages:workflow_preview": "A's course is in no workflow",
    "wagtailadmin_pages:revisions_compare": "compared on the history page",
    "wagtailadmin_collections:edit": "the root collection is not edited",
    "wagtailadmin_collections:delete": "the root collection is not deleted",
    "admin/^.*/$": "the admin's catch-all 404",
}


def rule_for(key: str, route: str):
    for refused, why in STATE_REFUSED.items():
        if fnmatch.fnmatchcase(key, refused):
            return NOBODY, why
    for pattern, roles, reason in RULES:
        if pattern.startswith("route:") and fnmatch.fnmatchcase(route, pattern.removeprefix("route:")):
            return frozenset(roles), reason
        if not pattern.startswith("route:") and fnmatch.fnmatchcase(key, pattern):
            return frozenset(roles), reason
    return None


def url_patterns(patterns, prefix="", namespace=None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from url_patterns(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            name = pattern.name and (f"{namespace}:{pattern.name}" if namespace else pattern.name)
            yield prefix + str(pattern.pattern), name, pattern.callback


def view_model(callback):
    view_class = getattr(callback, "view_class", None)
    if view_class is None:
        return None
    model = view_class.__dict__.get("model") or getattr(callback, "view_initkwargs", {}).get("model")
    return model if hasattr(model, "_meta") else None


def build_world():
    from django.apps import apps
    from wagtail.models import Collection, Revision, Task, Workflow

    from accounts.models import User
    from certification.certificates import services as certificates
    from certification.evaluations import services as evaluations
    from certification.models import (
        Appeal,
        Certificate,
        CertificateBatch,
        Evaluation,
        EvaluationRound,
        Exam,
        ExamAttempt,
        PracticalAssessment,
        Question,
    )
    from certification.servicedata.clients import service_data_client_create
    from certification.servicedata.models import ServiceDataClient
    from content.models import Standard
    from training.models import BatchSession, CourseIndexPage, CoursePage, TrainingBatch

    call_command("seed_demo", caregivers=12, stdout=open("/dev/null", "w"))  # noqa: SIM115
    people = {
        role: User.objects.get(username=username)
        for role, username in {
            "caregiver_a": "caregiver06",
            "caregiver_b": "caregiver01",
            "trainer_a": "trainer1",
            "trainer_b": "trainer2",
            "assessor_1": "assessor1",
            "assessor_2": "assessor2",
            "manager_other": "manager2",
            "administrator": "admin",
        }.items()
    }
    administrator = people["administrator"]
    caregiver = people["caregiver_a"].caregiver_profile
    assert caregiver.institution_id != people["manager_other"].institution_id
    decided = Evaluation.objects.get(caregiver=caregiver, status=Evaluation.Status.DECIDED)
    batch = certificates.certificate_batch_create(
        actor=administrator, name="甲机构证书批次", institution_id=caregiver.institution_id
    )
    certificate = certificates.certificate_issue(evaluation_id=decided.pk, notify=False)
    appeal = evaluations.appeal_file(evaluation=decided, user=people["caregiver_a"], grounds="对考评结果有异议")
    service_client, _token = service_data_client_create(name="长护险信息系统", actor=administrator)
    evaluation_round = evaluations.round_open(
        actor=administrator,
        name="甲机构复评",
        closes_on=timezone.localdate() + datetime.timedelta(days=30),
        institution=caregiver.institution,
    )
    index = CourseIndexPage.objects.get(training_body=people["trainer_a"].training_body)
    course = CoursePage.objects.child_of(index).first()
    training_batch = TrainingBatch.objects.filter(training_body=people["trainer_a"].training_body).first()
    assessment = PracticalAssessment.objects.filter(assessor=people["assessor_1"]).first()
    assigned = Evaluation.objects.filter(assessor=people["assessor_1"], status=Evaluation.Status.ASSIGNED).first()
    attempt = ExamAttempt.objects.filter(caregiver=caregiver).first()
    assert all((course, training_batch, assessment, assigned, attempt)), "the demo world lacks an object"

    objects = {model: model.objects.order_by("pk").first() for model in apps.get_models()}
    objects.update(
        {
            Certificate: certificate,
            Appeal: appeal,
            ServiceDataClient: service_client,
            EvaluationRound: evaluation_round,
            CertificateBatch: batch,
            CoursePage: course,
            TrainingBatch: training_batch,
            PracticalAssessment: assessment,
            Evaluation: assigned,
            ExamAttempt: attempt,
            type(caregiver): caregiver,
            User: people["caregiver_a"],
        }
    )
    revision = Revision.objects.filter(object_id=str(course.pk)).order_by("pk").first()
    # Path parameters by name; `pk` of a generic view comes from the view's model.
    parameters = {
        "page_id": course.pk,
        "page_pk": course.pk,
        "page_to_move_id": course.pk,
        "parent_page_id": index.pk,
        "destination_id": index.pk,
        "revision_id": revision.pk,
        "revision_id_a": "earliest",
        "revision_id_b": "latest",
        "content_type_app_name": "training",
        "content_type_model_name": "coursepage",
        "app_name": "training",
        "model_name": "trainingsettings",
        "app_label": "training",
        "action": "delete",
        "action_name": "approve",
        "object_id": str(course.pk),
        "task_id": Task.objects.order_by("pk").first().pk,
        "workflow_pk": Workflow.objects.order_by("pk").first().pk,
        "collection_id": Collection.get_first_root_node().pk,
        "attempt_id": attempt.pk,
        "evaluation_id": assigned.pk,
        "certificate_id": certificate.pk,
        "code": certificate.verification_code,
        "assessment_id": assessment.pk,
        "exam_id": Exam.objects.order_by("pk").first().pk,
        "course_id": course.pk,
        "lesson_id": course.get_children().first().pk,
        "standard_id": Standard.objects.order_by("pk").first().pk,
        "question_id": Question.objects.order_by("pk").first().pk,
        "session_pk": BatchSession.objects.filter(batch=training_batch).first().pk,
        "caregiver_id": caregiver.pk,
        "star_level": certificate.star_level,
        "list_number": 1,
        "kid": "unknown-key",
        "filter_spec": "original",
        "kind": "unknown",
        "extension": "xlsx",
        "file_format": "xlsx",
        "uidb64": "MQ",
        "token": "set-password",
    }
    # Views whose `pk` is not a generic view's model.
    pk_by_name = {
        "evaluation:assign": decided.pk,
        "evaluation:withdraw": assigned.pk,
        "appeal:decide": appeal.pk,
        "certificate_actions:*": certificate.pk,
        "certificate_batches:*": batch.pk,
        "evaluation_rounds:*": evaluation_round.pk,
        "nominations:*": caregiver.pk,
        "caregiverprofile:national_id_reveal": caregiver.pk,
        "wagtailusers_users:two_factor_reset": people["assessor_1"].pk,
        "service_data_clients:*": service_client.pk,
        "training_batches:roster": training_batch.pk,
        "wagtailadmin_api:pages:*": course.pk,
        "wagtailadmin_workflows:*task*": parameters["task_id"],
        "wagtailadmin_workflows:*": parameters["workflow_pk"],
        "wagtailsettings:*": objects[apps.get_model("training", "TrainingSettings")].pk,
    }
    return people, objects, parameters, pk_by_name


def url_for(route: str, name: str | None, callback, *, objects, parameters, pk_by_name) -> str:
    if name == "wagtail_serve":
        from training.models import CoursePage

        return objects[CoursePage].url
    if name == "wagtaildocs_serve":
        return "/documents/999999/document.pdf"
    model = view_model(callback)
    path = "/" + route.replace("^", "").replace("$", "")
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", path)

    def value(match) -> str:
        key = match.group(1)
        if key == "pk":
            for pattern, pk in pk_by_name.items():
                if name and fnmatch.fnmatchcase(name, pattern):
                    return str(pk)
            instance = objects.get(model) if model is not None else None
            return str(instance.pk if instance is not None else 999999)
        return str(parameters.get(key, 999999))

    return re.sub(r"<(?:\w+:)?(\w+)>", value, path).replace("\\", "")


def outcome(response) -> str:
    """allowed, refused, or wrong (a server error)."""
    if response.status_code >= 500:
        return "wrong"
    if response.status_code in (401, 403, 404):
        return "refused"
    if response.status_code in (301, 302):
        location = response.headers.get("Location", "")
        if "/login/" in location or location.split("?")[0] in ("/admin/", "/accounts/home/"):
            return "refused"
    return "allowed"


def test_every_url_opens_only_for_the_roles_its_rule_names():
    people, objects, parameters, pk_by_name = build_world()
    clients = {}
    for role in ROLES:
        client = Client(raise_request_exception=False)
        if role != "anonymous":
            client.force_login(people[role])
        clients[role] = client

    uncovered, wrong, mismatched = [], [], []
    probed = 0
    posts = []
    for route, name, callback in url_patterns(get_resolver().url_patterns):
        key = name or route
        if "logout" in key:
            continue  # signing out is its own test; here it would end the role's session
        rule = rule_for(key, route)
        if rule is None:
            uncovered.append(key)
            continue
        allowed, _reason = rule
        path = url_for(route, name, callback, objects=objects, parameters=parameters, pk_by_name=pk_by_name)
        for role in ROLES:
            response = clients[role].get(path)
            probed += 1
            if response.status_code == 405:
                posts.append((key, path, role, allowed))
                continue
            got = outcome(response)
            if got == "wrong":
                wrong.append(f"GET {path} as {role}: {response.status_code}")
            elif (got == "allowed") != (role in allowed):
                mismatched.append(f"GET {path} ({key}) as {role}: {got} ({response.status_code})")
    # POST-only views last: what they change happens after every page was read.
    for key, path, role, allowed in posts:
        response = clients[role].post(path, {})
        probed += 1
        got = outcome(response)
        if got == "wrong":
            wrong.append(f"POST {path} as {role}: {response.status_code}")
        elif got == "allowed" and role not in allowed:
            mismatched.append(f"POST {path} ({key}) as {role}: {got} ({response.status_code})")

    assert not uncovered, "no rule says who may open: " + ", ".join(uncovered)
    assert not wrong, "\n".join(wrong)
    assert not mismatched, "\n".join(mismatched)
    assert probed > 4000  # every URL, every role: the walk found the whole configuration


def test_a_view_outside_the_admin_without_a_rule_is_reported():
    assert rule_for("certification:something_new", "something/<int:pk>/") is None
    # In the admin the default is the bureau's alone, so a new admin screen open to anyone else fails the matrix.
    assert rule_for("something_new:index", "admin/something/") == (
        ADMINISTRATOR,
        "everything else of the admin: the bureau's",
    )
    assert rule_for("wagtailadmin_pages:edit", "admin/pages/<int:page_id>/edit/")[0] == {"trainer_a", "administrator"}
