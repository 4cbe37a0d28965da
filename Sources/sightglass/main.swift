print("sightglass")
