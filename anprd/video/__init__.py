"""Where frames come from: camera streams, their sampling, picture and video files."""
