"""A Gradio app with the components whose controls are icons (image tools, chat, audio, file, code, dataframe).

    python gradio_app.py PORT
"""

import sys

import gradio as gr

with gr.Blocks(title="Gradio demo") as demo:
    with gr.Row():
        gr.Image(label="Photo", sources=["upload", "webcam", "clipboard"], interactive=True)
        gr.ImageEditor(label="Sketch")
    with gr.Row():
        gr.Chatbot(value=[{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}], label="Chat")
        gr.Audio(label="Voice", sources=["upload", "microphone"])
    with gr.Row():
        gr.Code(value="print('hi')", language="python", label="Code")
        gr.Dataframe(value=[[1, "ada"], [2, "grace"]], headers=["id", "name"], label="Table")
        gr.File(label="Attachment")

demo.launch(server_name="127.0.0.1", server_port=int(sys.argv[1]), show_error=False)
