print("plugin-host")
