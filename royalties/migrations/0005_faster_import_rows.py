"""Less for the database to do per row of a report's import.

- A sales line's number is not stored: it is the low 32 bits of its id (`block << 32 |
  line number`), so the loader's COPY no longer sends it with every row, nor does the
  database store it. Existing lines lose nothing: their ids were built the same way
  (migration 0003 and the loader).
- Report products' ISRC and UPC are compared byte by byte on PostgreSQL (`CodeField`);
  their period gets no index of its own (the (organization, period, release) index serves
  every query by period), their track and release one only where set (most of a report's
  products may match nothing).
"""

import django.db.models.deletion
from django.db import migrations, models

import royalties.models


class Migration(migrations.Migration):
    dependencies = [
        ("distribution", "0005_release_preorder_date"),
        ("royalties", "0004_report_product_no_redundant_indexes"),
    ]

    operations = [
        migrations.RemoveField(model_name="salesline", name="line_number"),
        migrations.AlterField(
            model_name="reportproduct",
            name="isrc",
            field=royalties.models.CodeField(blank=True, max_length=12, verbose_name="ISRC"),
        ),
        migrations.AlterField(
            model_name="reportproduct",
            name="upc",
            field=royalties.models.CodeField(blank=True, max_length=14, verbose_name="UPC/EAN"),
        ),
        migrations.AlterField(
            model_name="reportproduct",
            name="period",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="report_products",
                to="royalties.accountingperiod",
            ),
        ),
        migrations.AlterField(
            model_name="reportproduct",
            name="track",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="distribution.track",
            ),
        ),
        migrations.AlterField(
            model_name="reportproduct",
            name="release",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="distribution.release",
            ),
        ),
        migrations.AddIndex(
            model_name="reportproduct",
            index=models.Index(
                condition=models.Q(("track__isnull", False)),
                fields=["track"],
                name="report_product_track_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="reportproduct",
            index=models.Index(
                condition=models.Q(("release__isnull", False)),
                fields=["release"],
                name="report_product_release_idx",
            ),
        ),
    ]
