from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("screens", "0003_playrecord"),
    ]

    operations = [
        migrations.AddField(
            model_name="channel",
            name="is_linear",
            field=models.BooleanField(
                default=False,
                help_text="电视频道开启后，作为直播频道（HLS、节目指南、M3U）对外公开，机顶盒可直接收看；只播公开条目。",
                verbose_name="对外直播",
            ),
        ),
    ]
