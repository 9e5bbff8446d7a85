import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

application = get_wsgi_application()

from certification.certificates.checks import pdf_rendering_ensure  # noqa: E402  (needs the apps loaded)

pdf_rendering_ensure()
