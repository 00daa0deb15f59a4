"""Playlist entries of three new kinds: a newspaper's latest front page, the current course's promotion, a clock."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('screens', '0005_channel_is_linear'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='playlistentry',
            name='screens_entry_has_content',
        ),
        migrations.AlterField(
            model_name='playlistentry',
            name='duration',
            field=models.PositiveIntegerField(default=10, help_text='图片、通知、报纸、课程和时钟显示的秒数；视频按实际长度播放。', verbose_name='时长（秒）'),
        ),
        migrations.AlterField(
            model_name='playlistentry',
            name='item',
            field=models.ForeignKey(blank=True, help_text='“馆藏视频”选视频；“报纸头版”选报纸的报名（不是某一期），屏幕自动显示最新一期的头版。', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='library.libraryitem', verbose_name='馆藏条目'),
        ),
        migrations.AlterField(
            model_name='playlistentry',
            name='kind',
            field=models.CharField(choices=[('video', '馆藏视频'), ('image', '图片'), ('notice', '通知文字'), ('newspaper', '报纸头版（最新一期）'), ('course', '大课堂课程推介'), ('info', '时钟（北京时间）')], default='video', max_length=16, verbose_name='类型'),
        ),
        migrations.AlterField(
            model_name='playlistentry',
            name='text',
            field=models.TextField(blank=True, help_text='通知的文字；时钟页可加一行短文字（可不填）。', verbose_name='通知文字'),
        ),
        migrations.AddConstraint(
            model_name='playlistentry',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('item__isnull', False), ('kind', 'video')), models.Q(('image__isnull', False), ('kind', 'image')), models.Q(('kind', 'notice'), models.Q(('text', ''), _negated=True)), models.Q(('item__isnull', False), ('kind', 'newspaper')), ('kind__in', ('course', 'info')), _connector='OR'), name='screens_entry_has_content', violation_error_message='这一条缺少内容：请按类型选择条目、图片或填写文字。'),
        ),
    ]
