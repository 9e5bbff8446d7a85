"""The blocks a lesson is written in. Each block has its own template under templates/blocks/."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from wagtail import blocks
from wagtail.blocks.struct_block import StructBlockValidationError
from wagtail.documents.blocks import DocumentChooserBlock
from wagtail.embeds.blocks import EmbedBlock
from wagtail.images.blocks import ImageBlock
from wagtail.snippets.blocks import SnippetChooserBlock

OPTION_LETTERS = "ABCDEFGH"


class LibraryChooserBlock(SnippetChooserBlock):
    """A snippet chooser that loads every chosen object of a lesson in one query, with its relations."""

    def __init__(self, target_model, *, select_related=(), **kwargs):
        self._select_related = tuple(select_related)
        super().__init__(target_model, **kwargs)

    def deconstruct(self):
        # Migrations record a plain snippet chooser: the query optimisation is not part of the schema.
        args, kwargs = self._constructor_args
        kwargs = {key: value for key, value in kwargs.items() if key != "select_related"}
        return ("wagtail.snippets.blocks.SnippetChooserBlock", args, kwargs)

    def _queryset(self):
        return self.target_model.objects.select_related(*self._select_related)

    def to_python(self, value):
        if value is None:
            return None
        return self._queryset().filter(pk=value).first()

    def bulk_to_python(self, values):
        objects = self._queryset().in_bulk([value for value in values if value is not None])
        return [objects.get(value) for value in values]

    def get_preview_value(self):
        return self._queryset().first()


class HeadingBlock(blocks.StructBlock):
    text = blocks.CharBlock(label=_("heading"))
    level = blocks.ChoiceBlock(choices=[("h2", "H2"), ("h3", "H3")], default="h2", label=_("level"))

    class Meta:
        icon = "title"
        template = "blocks/heading_block.html"
        label = _("Heading")
        description = _("A section heading within the lesson.")
        preview_value = {"text": "头面部清洁", "level": "h2"}


class ParagraphBlock(blocks.RichTextBlock):
    def __init__(self, **kwargs):
        super().__init__(features=["bold", "italic", "ol", "ul", "link"], **kwargs)

    class Meta:
        icon = "pilcrow"
        template = "blocks/paragraph_block.html"
        label = _("Paragraph")
        description = _("Running text with bold, italics, lists and links.")
        preview_value = "<p>长期护理保险为失能人员提供基本生活照料和与之密切相关的医疗护理。</p>"


class LessonImageBlock(ImageBlock):
    class Meta:
        icon = "image"
        template = "blocks/image_block.html"
        label = _("Image")
        description = _("A photo or diagram, with alternative text for screen readers.")
        preview_value = None


class VideoValue(blocks.StructValue):
    @property
    def is_file(self) -> bool:
        return self.get("video") is not None


class VideoBlock(blocks.StructBlock):
    """A demonstration video: an uploaded file, or an embed from a video site."""

    video = DocumentChooserBlock(required=False, label=_("video file"), help_text=_("An MP4 file from the documents."))
    embed = EmbedBlock(required=False, label=_("video address"), help_text=_("Or the address of a video page."))
    caption = blocks.CharBlock(required=False, label=_("caption"))

    class Meta:
        icon = "media"
        template = "blocks/video_block.html"
        label = _("Video")
        description = _("A demonstration video, uploaded or embedded from a video site.")
        value_class = VideoValue
        preview_value = {"caption": "协助翻身操作示范"}

    def clean(self, value):
        value = super().clean(value)
        if bool(value.get("video")) == bool(value.get("embed")):
            raise StructBlockValidationError(
                block_errors={"video": ValidationError(_("Choose a video file or give a video address, not both."))}
            )
        return value


class DocumentBlock(blocks.StructBlock):
    document = DocumentChooserBlock(label=_("document"))
    title = blocks.CharBlock(required=False, label=_("link text"), help_text=_("Defaults to the document's title."))

    class Meta:
        icon = "doc-full"
        template = "blocks/document_block.html"
        label = _("Document")
        description = _("A handout or form to download.")
        preview_value = {"title": "护理记录单（样表）"}


class ClauseCitationBlock(blocks.StructBlock):
    """Quotes a clause of a local standard from the library, so lessons follow the standard as amended."""

    clause = LibraryChooserBlock("content.Clause", select_related=["standard"], label=_("clause"))
    comment = blocks.TextBlock(required=False, label=_("explanation"))

    class Meta:
        icon = "openquote"
        template = "blocks/clause_citation_block.html"
        label = _("Standard clause citation")
        description = _("Quotes a clause of a local standard, always in its current wording, with a link to it.")

    def get_preview_value(self):
        return self.to_python(
            {"clause": getattr(self.child_blocks["clause"].get_preview_value(), "pk", None), "comment": ""}
        )


class ProcedureBlock(blocks.StructBlock):
    """The steps of a care service item, as the service item list defines them."""

    service_item = LibraryChooserBlock("content.ServiceItem", label=_("service item"))
    note = blocks.TextBlock(required=False, label=_("note"))

    class Meta:
        icon = "list-ol"
        template = "blocks/procedure_block.html"
        label = _("Procedure")
        description = _("The steps of a care service item from the service item list.")

    def get_preview_value(self):
        return self.to_python(
            {"service_item": getattr(self.child_blocks["service_item"].get_preview_value(), "pk", None)}
        )


class KeyPointsBlock(blocks.StructBlock):
    title = blocks.CharBlock(default="要点", label=_("title"))
    points = blocks.ListBlock(
        blocks.CharBlock(label=pgettext_lazy("lesson key point", "point")),
        label=pgettext_lazy("lesson key points", "points"),
    )

    class Meta:
        icon = "list-ul"
        template = "blocks/key_points_block.html"
        label = _("Key points")
        description = _("A short list of what to remember.")
        preview_value = {"title": "要点", "points": ["尊重人格尊严", "保护个人隐私", "持证上岗"]}


class SelfCheckValue(blocks.StructValue):
    def lettered_options(self) -> list[tuple[str, str, bool]]:
        return [
            (OPTION_LETTERS[position], option["text"], option["correct"])
            for position, option in enumerate(self.get("options") or [])
        ]

    def answer(self) -> str:
        return "、".join(letter for letter, _text, correct in self.lettered_options() if correct)

    def is_multiple(self) -> bool:
        return sum(1 for option in self.get("options") or [] if option["correct"]) > 1


class SelfCheckOptionBlock(blocks.StructBlock):
    text = blocks.CharBlock(label=_("option"))
    correct = blocks.BooleanBlock(required=False, label=_("correct"))

    class Meta:
        icon = "radio-full"
        label = _("Option")


class SelfCheckBlock(blocks.StructBlock):
    """A question the learner answers for themselves; the answer and explanation unfold below it."""

    question = blocks.TextBlock(label=_("question"))
    options = blocks.ListBlock(SelfCheckOptionBlock(), min_num=2, max_num=len(OPTION_LETTERS), label=_("options"))
    explanation = blocks.TextBlock(required=False, label=_("explanation"))

    class Meta:
        icon = "help"
        template = "blocks/self_check_block.html"
        label = _("Self-check question")
        description = _("A question with options; the learner reveals the answer and explanation.")
        value_class = SelfCheckValue
        preview_value = {
            "question": "卧床服务对象至少每几小时翻身一次？",
            "options": [{"text": "1 小时", "correct": False}, {"text": "2 小时", "correct": True}],
            "explanation": "见护理服务规范 6.1。",
        }

    def clean(self, value):
        value = super().clean(value)
        if not any(option["correct"] for option in value.get("options") or []):
            raise StructBlockValidationError(
                block_errors={"options": ValidationError(_("Mark at least one option as correct."))}
            )
        return value


class LessonBodyBlock(blocks.StreamBlock):
    heading = HeadingBlock()
    paragraph = ParagraphBlock()
    image = LessonImageBlock()
    video = VideoBlock()
    document = DocumentBlock()
    clause_citation = ClauseCitationBlock()
    procedure = ProcedureBlock()
    key_points = KeyPointsBlock()
    self_check = SelfCheckBlock()
