"""The desktop app: a thin Qt shell over :mod:`docgen.pipeline`, :mod:`docgen.batch` and :mod:`docgen.draft`.

The only package that imports PySide6. The window delegates each tab to a controller over the current
:class:`docgen.draft.Draft` (the document under review, Qt-free; the panels only show it):

- :mod:`.app` - ``run(argv)``, the entry point behind ``docgen`` / ``docgen gui``;
- :mod:`.main_window` - the shell: gallery, tabs, actions, menus, status bar, drafts, autosave, close;
- :mod:`.data_controller` - Data tab: data read on a worker, worksheet picker, columns check, record, fields;
- :mod:`.review_controller` - Review tab: Generate / Regenerate, streaming, edits, marks (Remove / Keep), undo;
- :mod:`.export_controller` - export gate, Save As, export run, Preview tab;
- :mod:`.batch_controller` - Batch tab: follows template and data, record ids, warnings, hold back / release;
- :mod:`.runs` - one run at a time on a worker thread, progress, cancel;
- :mod:`.workers` - the model session (lazy load on the worker thread) and the QThread running a task;
- :mod:`.richtext` - the section editor (Markdown in, Markdown out);
- :mod:`.gallery`, :mod:`.data_preview`, :mod:`.fields_form`, :mod:`.sections`, :mod:`.preview`,
  :mod:`.batch_tab`, :mod:`.settings_dialog` - widgets;
- :mod:`.match_fields` - Match Fields: a data column for each template column, remembered per data header;
- :mod:`.references_pane` - References tab: the reference files in scope, files added for the next runs, search;
- :mod:`.autosave`, :mod:`.recent`, :mod:`.window_state` - what is remembered between sessions;
- :mod:`.dialogs` - message boxes and file pickers (one place, so tests can answer them).

Adding a GUI piece from another issue (a Models dialog, a References pane, server settings, a Match Fields
dialog, a chart preview): put its widgets in its own ``gui/<name>.py`` with an ``install(window)`` function and
call it from one line in :meth:`MainWindow.__init__ <docgen.gui.main_window.MainWindow>`. What it may use:
``window.menus["file" | "run" | "tools"]`` (make the Tools menu visible with ``menuAction().setVisible(True)``),
:meth:`MainWindow.add_tab`, ``window.review.footer`` (a row under the sections), ``window.data.widget`` /
``window.data.panel`` (the Data tab), the signals ``template_changed(TemplateSpec)``, ``dataset_changed()``,
``draft_changed()``, and ``window.template``, ``window.dataset``, ``window.draft``, ``window.settings``,
``window.runs`` (``runs.start(kind, task, status, client)`` for work on the model's thread).
"""
