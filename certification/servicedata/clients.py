"""The client systems that send service data: created with a token shown once and stored hashed, rotated,
switched off, and authenticated by that token."""

from django.db import transaction
from django.utils import timezone
from wagtail.log_actions import log

from accounts.models import User

from .models import ServiceDataClient, token_hash


def service_data_client_create(*, name: str, actor: User) -> tuple[ServiceDataClient, str]:
    """A client system with a fresh token; the token is returned here once and never stored."""
    with transaction.atomic():
        client = ServiceDataClient(name=name.strip(), created_by=actor)
        token = client.token_set_new()
        client.save()
        log(client, "carestar.servicedata_client.create", user=actor, data={"token_prefix": client.token_prefix})
    return client, token


def service_data_client_token_rotate(*, client: ServiceDataClient, actor: User) -> str:
    """A new token for the client; the old one stops working at once."""
    with transaction.atomic():
        client = ServiceDataClient.objects.select_for_update().get(pk=client.pk)
        before = client.token_prefix
        token = client.token_set_new()
        client.save(update_fields=["token_prefix", "token_hash"])
        log(
            client,
            "carestar.servicedata_client.rotate",
            user=actor,
            data={"before": {"token_prefix": before}, "after": {"token_prefix": client.token_prefix}},
        )
    return token


def service_data_client_active_set(*, client: ServiceDataClient, actor: User, active: bool) -> ServiceDataClient:
    with transaction.atomic():
        client = ServiceDataClient.objects.select_for_update().get(pk=client.pk)
        if client.is_active != active:
            client.is_active = active
            client.save(update_fields=["is_active"])
            log(
                client,
                "carestar.servicedata_client.activate" if active else "carestar.servicedata_client.deactivate",
                user=actor,
                data={"before": {"is_active": not active}, "after": {"is_active": active}},
            )
    return client


def service_data_client_authenticate(*, token: str) -> ServiceDataClient | None:
    """The active client holding this token, its last use recorded; None for an unknown or inactive token."""
    if not token:
        return None
    client = ServiceDataClient.objects.filter(token_hash=token_hash(token), is_active=True).first()
    if client is not None:
        client.last_used_at = timezone.now()
        ServiceDataClient.objects.filter(pk=client.pk).update(last_used_at=client.last_used_at)
    return client
