-- Builds the end-to-end test session (run by tests/ardour_export.rs through ardour7-lua):
-- three stereo tracks and the master, Stem Preflight last on each, the master's instance set
-- to the reference-mix role through its parameter, and a recorded region of
-- SP_RECORD_SECONDS on every track, whose files the test then overwrites with known audio.

local dir = assert(os.getenv("SP_SESSION_DIR"), "SP_SESSION_DIR is not set")
local name = assert(os.getenv("SP_SESSION_NAME"), "SP_SESSION_NAME is not set")
local seconds = assert(tonumber(os.getenv("SP_RECORD_SECONDS")), "SP_RECORD_SECONDS is not set")

AudioEngine:set_backend("None (Dummy)", "", "")
assert(load_session(dir, name), "cannot load the session")

local function insert_stem_preflight(route)
  local plugin = ARDOUR.LuaAPI.new_plugin(Session, "Stem Preflight", ARDOUR.PluginType.VST3, "")
  assert(not plugin:isnil(), "Ardour does not know the Stem Preflight VST3 (was it scanned?)")
  assert(route:add_processor_by_index(plugin, -1, nil, true) == 0, "cannot insert on " .. route:name())
  return plugin
end

-- The control number Ardour's set_processor_param takes, found by the control's name.
local function control_number(processor, label)
  local plugin = processor:to_insert():plugin(0)
  for n = 0, plugin:parameter_count() - 1 do
    local port, refs = plugin:nth_parameter(n, true)
    if refs[2] and plugin:parameter_is_input(port) and plugin:parameter_label(port) == label then
      return n
    end
  end
  error("no control named " .. label)
end

for _, track in ipairs({ "Drums", "Bass", "Vocals" }) do
  local list = Session:new_audio_track(2, 2, nil, 1, track,
    ARDOUR.PresentationInfo.max_order, ARDOUR.TrackMode.Normal, true)
  for route in list:iter() do
    insert_stem_preflight(route)
  end
end

local master = insert_stem_preflight(Session:master_out())
-- Role: 0 stem, 1 reference mix (master).
assert(ARDOUR.LuaAPI.set_processor_param(master, control_number(master, "Role"), 1))

-- Record from the Dummy backend (its input is silence): a region of the right length per
-- track. Rolling also hands the role change to the plugin before the session is saved.
for route in Session:get_tracks():iter() do
  route:rec_enable_control():set_value(1, PBD.GroupControlDisposition.NoGroup)
end
Session:maybe_enable_record(false)
Session:request_roll(ARDOUR.TransportRequestSource.TRS_UI)
ARDOUR.LuaAPI.usleep(math.floor(seconds * 1000000))
Session:request_stop(false, false, ARDOUR.TransportRequestSource.TRS_UI)
ARDOUR.LuaAPI.usleep(1000000)
for route in Session:get_tracks():iter() do
  route:rec_enable_control():set_value(0, PBD.GroupControlDisposition.NoGroup)
  for region in route:to_track():playlist():region_list():iter() do
    print("region", route:name(), region:position():samples(), region:length():samples())
  end
end
print("role", ARDOUR.LuaAPI.get_processor_param(master, control_number(master, "Role")))
Session:save_state("")
close_session()
quit()
