from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from wagtail import blocks
from wagtail.images.blocks import ImageBlock
from wagtail.snippets.blocks import SnippetChooserBlock


class HeadingBlock(blocks.StructBlock):
    text = blocks.CharBlock(label=_("heading"))
    level = blocks.ChoiceBlock(choices=[("h2", "H2"), ("h3", "H3")], default="h2", label=_("level"))

    class Meta:
        icon = "title"
        template = "blocks/heading_block.html"
        label = _("Heading")


class ClauseCitationBlock(blocks.StructBlock):
    """Quotes a clause of a local standard from the library, so lessons follow the standard as amended."""

    clause = SnippetChooserBlock("content.Clause", label=_("clause"))
    comment = blocks.TextBlock(required=False, label=_("explanation"))

    class Meta:
        icon = "openquote"
        template = "blocks/clause_citation_block.html"
        label = _("Standard clause citation")


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


class LessonBodyBlock(blocks.StreamBlock):
    heading = HeadingBlock()
    paragraph = blocks.RichTextBlock(
        features=["bold", "italic", "ol", "ul", "link"], label=_("Paragraph"), template="blocks/paragraph_block.html"
    )
    image = ImageBlock(label=_("Image"))
    clause_citation = ClauseCitationBlock()
    key_points = KeyPointsBlock()
