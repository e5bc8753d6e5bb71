-- Puts x42-dpl (Digital Peak Limiter, Debian's x42-plugins) first on the master bus, before
-- Stem Preflight, driven SP_LIMITER_GAIN_DB into a ceiling of SP_LIMITER_CEILING_DB: the
-- limiter left on the master that the master instance must flag.

local dir = assert(os.getenv("SP_SESSION_DIR"), "SP_SESSION_DIR is not set")
local name = assert(os.getenv("SP_SESSION_NAME"), "SP_SESSION_NAME is not set")
local gain_db = assert(tonumber(os.getenv("SP_LIMITER_GAIN_DB")), "SP_LIMITER_GAIN_DB is not set")
local ceiling_db = assert(tonumber(os.getenv("SP_LIMITER_CEILING_DB")), "SP_LIMITER_CEILING_DB is not set")

AudioEngine:set_backend("None (Dummy)", "", "")
assert(load_session(dir, name), "cannot load the session")

local limiter = ARDOUR.LuaAPI.new_plugin(Session, "http://gareus.org/oss/lv2/dpl#stereo", ARDOUR.PluginType.LV2, "")
assert(not limiter:isnil(), "Ardour does not know x42-dpl: install x42-plugins")
local master = Session:master_out()
assert(master:add_processor_by_index(limiter, 0, nil, true) == 0, "cannot insert the limiter")

local plugin = limiter:to_insert():plugin(0)
local set = {}
for n = 0, plugin:parameter_count() - 1 do
  local port, refs = plugin:nth_parameter(n, true)
  if refs[2] and plugin:parameter_is_input(port) then
    local label = plugin:parameter_label(port)
    local value = nil
    if label:find("Gain") then value = gain_db end
    if label:find("Threshold") then value = ceiling_db end
    if value ~= nil then
      assert(ARDOUR.LuaAPI.set_processor_param(limiter, n, value), "cannot set " .. label)
      print("limiter", label, ARDOUR.LuaAPI.get_processor_param(limiter, n))
      set[#set + 1] = label
    end
  end
end
assert(#set == 2, "expected x42-dpl's Gain and Threshold controls")
-- Let the engine run a moment so the settings reach the plugin before saving.
ARDOUR.LuaAPI.usleep(500000)
Session:save_state("")
close_session()
quit()
