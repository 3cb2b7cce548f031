"""Constraints, settings and capabilities as dicts keyed by the spec's names (Media Capture and
Streams: width, height, frameRate, aspectRatio, resizeMode; sampleRate, channelCount,
sampleSize; Media Capture Image's camera controls: brightness, contrast, saturation, sharpness,
exposureTime, colorTemperature, focusDistance, zoom, pan, tilt, and the modes exposureMode,
whiteBalanceMode, focusMode), converted to and from libmst's structs.

A constraint is a bare number (the spec's bare value: ideal) or a dict of "min", "max",
"exact" and "ideal"; resizeMode is "none" or "crop-and-scale" (or a dict of "exact" or "ideal"
holding one, which libmst treats alike). A mode is "none", "manual", "single-shot" or
"continuous" (a bare one is ideal) or a dict of "exact" and "ideal". Capabilities of a camera
control are {"min", "max", "step"}, of a mode the list of modes offered. What libmst returns
always has the dict form.
"""
import math
import numbers

from . import _abi

VIDEO = {"width": "width", "height": "height", "frameRate": "frame_rate",
         "aspectRatio": "aspect_ratio"}
CONTROLS = {"brightness": "brightness", "contrast": "contrast", "saturation": "saturation",
            "sharpness": "sharpness", "exposureTime": "exposure_time",
            "colorTemperature": "color_temperature", "focusDistance": "focus_distance",
            "zoom": "zoom", "pan": "pan", "tilt": "tilt"}
MODES = {"exposureMode": ("exposure_mode", "exposure_modes"),
         "whiteBalanceMode": ("white_balance_mode", "white_balance_modes"),
         "focusMode": ("focus_mode", "focus_modes")}
METERING_MODES = {"none": _abi.MST_METERING_MODE_NONE, "manual": _abi.MST_METERING_MODE_MANUAL,
                  "single-shot": _abi.MST_METERING_MODE_SINGLE_SHOT,
                  "continuous": _abi.MST_METERING_MODE_CONTINUOUS}
AUDIO = {"sampleRate": "sample_rate", "channelCount": "channel_count",
         "sampleSize": "sample_size"}
# The spec's ConstrainULong members: shown as int when libmst's double holds an integer.
_INTEGRAL = {"width", "height", "sampleRate", "channelCount", "sampleSize"}
_BITS = {"min": _abi.MST_CONSTRAIN_MIN, "max": _abi.MST_CONSTRAIN_MAX,
         "exact": _abi.MST_CONSTRAIN_EXACT, "ideal": _abi.MST_CONSTRAIN_IDEAL}
RESIZE_MODES = {"none": _abi.MST_RESIZE_MODE_NONE,
                "crop-and-scale": _abi.MST_RESIZE_MODE_CROP_AND_SCALE}
# (present bit, settings member, spec name)
_SETTINGS = [
    (_abi.MST_SETTING_WIDTH, "width", "width"),
    (_abi.MST_SETTING_HEIGHT, "height", "height"),
    (_abi.MST_SETTING_FRAME_RATE, "frame_rate", "frameRate"),
    (_abi.MST_SETTING_ASPECT_RATIO, "aspect_ratio", "aspectRatio"),
    (_abi.MST_SETTING_RESIZE_MODE, "resize_mode", "resizeMode"),
    (_abi.MST_SETTING_SAMPLE_RATE, "sample_rate", "sampleRate"),
    (_abi.MST_SETTING_CHANNEL_COUNT, "channel_count", "channelCount"),
    (_abi.MST_SETTING_SAMPLE_SIZE, "sample_size", "sampleSize"),
]
_CONTROL_SETTINGS = [(getattr(_abi, "MST_SETTING_" + member.upper()), member, name)
                     for name, member in CONTROLS.items()]
_MODE_SETTINGS = [(getattr(_abi, "MST_SETTING_" + member.upper()), member, name)
                  for name, (member, _) in MODES.items()]


def _number(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"constraint {name}: a number, or a dict of min/max/exact/ideal; got "
                        f"{value!r}")
    return float(value)


def merge(constraints, keywords):
    """One dict from apply_constraints(dict, **keywords); a keyword overrides the dict."""
    if constraints is None:
        constraints = {}
    if not isinstance(constraints, dict):
        raise TypeError(f"constraints are a dict keyed by the spec's names; got {constraints!r}")
    return {**constraints, **keywords}


def _fill_range(rng, name, value):
    if not isinstance(value, dict):
        value = {"ideal": value}
    unknown = set(value) - set(_BITS)
    if unknown:
        raise ValueError(f"constraint {name}: unknown member(s) {', '.join(sorted(unknown))}; "
                         "known: min, max, exact, ideal")
    rng.present = 0
    for member, v in value.items():
        setattr(rng, member, _number(name, v))
        rng.present |= _BITS[member]


def _resize_mode(value):
    if isinstance(value, dict):
        if len(value) != 1 or next(iter(value)) not in ("exact", "ideal"):
            raise ValueError(f"constraint resizeMode: a mode, or a dict of exact or ideal; got "
                             f"{value!r}")
        value = next(iter(value.values()))
    if value not in RESIZE_MODES:
        raise ValueError(f"constraint resizeMode: {value!r} is not one of "
                         f"{', '.join(map(repr, RESIZE_MODES))}")
    return RESIZE_MODES[value]


def _fill_mode(mode, name, value):
    if not isinstance(value, dict):
        value = {"ideal": value}
    unknown = set(value) - {"exact", "ideal"}
    if unknown:
        raise ValueError(f"constraint {name}: unknown member(s) {', '.join(sorted(unknown))}; "
                         "known: exact, ideal")
    mode.present = 0
    for member, v in value.items():
        if v not in METERING_MODES:
            raise ValueError(f"constraint {name}: {v!r} is not one of "
                             f"{', '.join(map(repr, METERING_MODES))}")
        setattr(mode, member, METERING_MODES[v])
        mode.present |= _BITS[member]


def video_struct(constraints):
    """An MstVideoConstraints from a dict; names libmst has no video constraint for raise."""
    out = _abi.MstVideoConstraints()
    for name, value in constraints.items():
        if name == "resizeMode":
            out.resize_mode = _resize_mode(value)
        elif name in VIDEO:
            _fill_range(getattr(out, VIDEO[name]), name, value)
        elif name in CONTROLS:
            _fill_range(getattr(out, CONTROLS[name]), name, value)
        elif name in MODES:
            _fill_mode(getattr(out, MODES[name][0]), name, value)
        elif name in AUDIO:
            raise ValueError(f"{name} is not a video constraint: an audio track's format is "
                             "chosen when the microphone opens (mst.Track.microphone)")
        else:
            raise ValueError(f"unknown video constraint {name!r}; known: "
                             f"{', '.join([*VIDEO, 'resizeMode', *CONTROLS, *MODES])}")
    return out


def audio_struct(constraints):
    """An MstAudioConstraints from a dict."""
    out = _abi.MstAudioConstraints()
    for name, value in constraints.items():
        if name not in AUDIO:
            raise ValueError(f"unknown audio constraint {name!r}; known: {', '.join(AUDIO)}")
        _fill_range(getattr(out, AUDIO[name]), name, value)
    return out


def _value(name, v):
    return int(v) if name in _INTEGRAL and math.isfinite(v) and v == int(v) else v


def _mode_name(mode):
    return next((n for n, v in RESIZE_MODES.items() if v == mode), mode)


def _metering_name(mode):
    return next((n for n, v in METERING_MODES.items() if v == mode), mode)


def video_dict(struct):
    """getConstraints(): the members libmst holds, in the dict form."""
    out = {}
    for name, member in {**VIDEO, **CONTROLS}.items():
        rng = getattr(struct, member)
        got = {m: _value(name, getattr(rng, m)) for m, bit in _BITS.items() if rng.present & bit}
        if got:
            out[name] = got
    if struct.resize_mode:
        out["resizeMode"] = _mode_name(struct.resize_mode)
    for name, (member, _) in MODES.items():
        mode = getattr(struct, member)
        got = {m: _metering_name(getattr(mode, m)) for m in ("exact", "ideal")
               if mode.present & _BITS[m]}
        if got:
            out[name] = got
    return out


def settings_dict(s):
    """getSettings(): only the members present (none before a track's first frame)."""
    out = {}
    for bit, member, name in _SETTINGS:
        if s.present & bit:
            v = getattr(s, member)
            out[name] = _mode_name(v) if name == "resizeMode" else _value(name, v)
    for bit, member, name in _CONTROL_SETTINGS:
        if s.present & bit:
            out[name] = getattr(s, member)
    for bit, member, name in _MODE_SETTINGS:
        if s.present & bit:
            out[name] = _metering_name(getattr(s, member))
    return out


def capabilities_dict(c):
    """getCapabilities(): {"width": {"min": .., "max": ..}, ..., "resizeMode": [...]}."""
    out = {}
    for bit, member, name in _SETTINGS[:4]:
        if c.present & bit:
            out[name] = {"min": _value(name, getattr(c, member + "_min")),
                         "max": _value(name, getattr(c, member + "_max"))}
    if c.present & _abi.MST_SETTING_RESIZE_MODE:
        out["resizeMode"] = [m for m, on in (("none", c.resize_mode_none),
                                             ("crop-and-scale", c.resize_mode_crop_and_scale))
                             if on]
    for bit, member, name in _CONTROL_SETTINGS:
        if c.present & bit:
            r = getattr(c, member)
            out[name] = {"min": r.min, "max": r.max, "step": r.step}
    for name, (_, member) in MODES.items():
        bits = getattr(c, member)
        if bits:
            out[name] = [m for m, v in METERING_MODES.items() if bits & (1 << v)]
    return out
