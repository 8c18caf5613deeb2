"""Sales lines narrowed to their product: matching, organization, period, ISRC and UPC move
to `ReportProduct` (one row per distinct ISRC/UPC of a report), and a line keeps only its
product's id. The new line table is built by hand on PostgreSQL: no primary-key constraint
and no B-tree index, a BRIN index on the id and the product instead (see `SalesLine`).

Existing lines are copied: each report gets a block of ids, each distinct (ISRC, UPC) of it
a product; a product some of whose lines were matched by hand takes that match (from now on
a match covers all the lines naming the product).
"""

import django.db.models.deletion
from django.db import migrations, models

BLOCK_ID_BITS = 32
BATCH = 5000

LINE_TABLE_POSTGRESQL = """
CREATE TABLE royalties_salesline (
    id bigint NOT NULL,
    product_id bigint NOT NULL,
    line_number integer NOT NULL,
    store varchar(50) NOT NULL,
    sale_month date NOT NULL,
    territory varchar(2) NOT NULL,
    usage_type varchar(10) NOT NULL,
    quantity bigint NOT NULL,
    gross numeric(20, 10) NOT NULL,
    net numeric(20, 10) NOT NULL,
    currency varchar(3) NOT NULL
);
-- One index, both columns: a row costs one index insert, and either column can be searched.
CREATE INDEX sales_line_brin ON royalties_salesline USING brin (id, product_id)
    WITH (pages_per_range = 32, autosummarize = on);
"""


def create_line_table(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(LINE_TABLE_POSTGRESQL)
    else:
        schema_editor.create_model(apps.get_model("royalties", "SalesLine"))


def drop_line_table(apps, schema_editor):
    schema_editor.delete_model(apps.get_model("royalties", "SalesLine"))


def copy_legacy_lines(apps, schema_editor):
    db = schema_editor.connection.alias
    legacy = apps.get_model("royalties", "LegacySalesLine").objects.using(db)
    blocks = apps.get_model("royalties", "SalesLineBlock").objects.using(db)
    product_model = apps.get_model("royalties", "ReportProduct")
    line_model = apps.get_model("royalties", "SalesLine")
    report_ids = list(legacy.values_list("report_id", flat=True).distinct().order_by())
    for report_id in report_ids:
        first_id = blocks.create(report_id=report_id).pk << BLOCK_ID_BITS
        products: dict = {}
        batch = []
        for old in legacy.filter(report_id=report_id).order_by("line_number").iterator():
            product = products.get((old.isrc, old.upc))
            if product is None:
                product = products[(old.isrc, old.upc)] = product_model(
                    id=first_id + len(products) + 1,
                    report_id=report_id,
                    organization_id=old.organization_id,
                    period_id=old.period_id,
                    isrc=old.isrc,
                    upc=old.upc,
                    lines=0,
                )
            if product.release_id is None and old.release_id is not None:
                product.track_id, product.release_id = old.track_id, old.release_id
                product.matched_by_hand, product.period_id = old.matched_by_hand, old.period_id
            product.lines += 1
            batch.append(
                line_model(
                    id=first_id + old.line_number,
                    product_id=product.pk,
                    line_number=old.line_number,
                    store=old.store,
                    sale_month=old.sale_month,
                    territory=old.territory,
                    usage_type=old.usage_type,
                    quantity=old.quantity,
                    gross=old.gross,
                    net=old.net,
                    currency=old.currency,
                )
            )
            if len(batch) >= BATCH:
                line_model.objects.using(db).bulk_create(batch)
                batch = []
        line_model.objects.using(db).bulk_create(batch)
        product_model.objects.using(db).bulk_create(products.values(), batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_organization_isrc_designation_year_and_more"),
        ("distribution", "0005_release_preorder_date"),
        ("royalties", "0002_split_unique_per_target"),
    ]

    operations = [
        migrations.DeleteModel(name="UnmatchedSalesLine"),
        migrations.RenameModel(old_name="SalesLine", new_name="LegacySalesLine"),
        migrations.CreateModel(
            name="SalesLineBlock",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                (
                    "report",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="line_block",
                        to="royalties.salesreport",
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="ReportProduct",
            fields=[
                ("id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("isrc", models.CharField(blank=True, max_length=12, verbose_name="ISRC")),
                ("upc", models.CharField(blank=True, max_length=14, verbose_name="UPC/EAN")),
                ("matched_by_hand", models.BooleanField(default=False)),
                (
                    "lines",
                    models.PositiveBigIntegerField(
                        default=0, help_text="How many report lines name it."
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="accounts.organization",
                    ),
                ),
                (
                    "period",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="report_products",
                        to="royalties.accountingperiod",
                    ),
                ),
                (
                    "release",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="distribution.release",
                    ),
                ),
                (
                    "report",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="products",
                        to="royalties.salesreport",
                    ),
                ),
                (
                    "track",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="distribution.track",
                    ),
                ),
            ],
            options={
                "ordering": ["report", "id"],
                "indexes": [
                    models.Index(
                        fields=["organization", "period", "release"],
                        name="report_product_period_idx",
                    )
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("report", "isrc", "upc"), name="report_product_unique_per_report"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="UnmatchedProduct",
            fields=[],
            options={
                "verbose_name": "unmatched product",
                "verbose_name_plural": "unmatched products",
                "proxy": True,
                "indexes": [],
                "constraints": [],
            },
            bases=("royalties.reportproduct",),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="SalesLine",
                    fields=[
                        ("id", models.BigIntegerField(primary_key=True, serialize=False)),
                        ("line_number", models.PositiveIntegerField()),
                        ("store", models.CharField(max_length=50)),
                        ("sale_month", models.DateField()),
                        ("territory", models.CharField(max_length=2)),
                        (
                            "usage_type",
                            models.CharField(
                                choices=[
                                    ("stream", "Stream"),
                                    ("download", "Download"),
                                    ("ugc", "Ugc"),
                                    ("other", "Other"),
                                ],
                                max_length=10,
                            ),
                        ),
                        ("quantity", models.BigIntegerField()),
                        ("gross", models.DecimalField(decimal_places=10, max_digits=20)),
                        ("net", models.DecimalField(decimal_places=10, max_digits=20)),
                        ("currency", models.CharField(max_length=3)),
                        (
                            "product",
                            models.ForeignKey(
                                db_constraint=False,
                                db_index=False,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="sales_lines",
                                to="royalties.reportproduct",
                            ),
                        ),
                    ],
                    options={"ordering": ["id"]},
                ),
            ],
        ),
        migrations.RunPython(create_line_table, drop_line_table),
        migrations.RunPython(copy_legacy_lines, migrations.RunPython.noop),
        migrations.DeleteModel(name="LegacySalesLine"),
    ]
