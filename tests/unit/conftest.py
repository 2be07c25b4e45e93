"""Unit tests mock AWS in-process with moto: its EC2 backend would load some thousand default AMIs for every test
(~0.5 s each time); no unit test needs them (a test that runs an instance names its own image)."""
import os

os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"
