def live_routes(ctx):
    return []
