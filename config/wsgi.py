import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

application = get_wsgi_application()

from accounts.national_id_crypto import national_id_keys_ensure  # noqa: E402  (needs the apps loaded)
from certification.certificates.checks import pdf_rendering_ensure  # noqa: E402

pdf_rendering_ensure()
national_id_keys_ensure()
