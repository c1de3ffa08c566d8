"""The desktop app: a thin Qt shell over :mod:`docgen.pipeline` and :mod:`docgen.batch`.

The only package that imports PySide6. Modules:

- :mod:`.app` - ``run(argv)``, the entry point behind ``docgen`` / ``docgen gui``;
- :mod:`.main_window` - the window: template gallery, data + fields, section review, preview, batch;
- :mod:`.workers` - the model session (lazy load on the worker thread) and the QThread running the pipeline;
- :mod:`.gallery` - template list model and panel;
- :mod:`.data_preview` - table model over a Dataset and the data panel;
- :mod:`.fields_form` - the form generated from the manifest's fields;
- :mod:`.sections` - one review panel per section (stream, edit, regenerate, lock);
- :mod:`.preview` - read-back rendering of a written .docx;
- :mod:`.batch_tab` - batch of rows with per-row status;
- :mod:`.settings_dialog` - settings with policy-locked keys shown locked;
- :mod:`.autosave` - in-progress work saved as JSON and offered back;
- :mod:`.dialogs` - message boxes and file pickers (one place, so tests can answer them);
- :mod:`.window_state` - window geometry saved in the user config folder.
"""
