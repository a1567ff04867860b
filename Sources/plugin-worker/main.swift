print("plugin-worker")
